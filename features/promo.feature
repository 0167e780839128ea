@PROMO
Feature: Forwarded promotion notification dossiers are received and processed
  Promotion notifications submitted on the national portal are forwarded to the province's
  Department of Industry and Trade, which must receive and process them.

  @PROMO-1
  Scenario: A promotion notification reaches the Department of Industry and Trade and is processed
    Given the province's system has started and connected to the national platforms
    When a business submits a promotion notification on the national portal
    Then the province's Department of Industry and Trade receives it and processes it to the end
