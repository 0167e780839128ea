@PROMO
Feature: Forwarded promotion notification dossiers are received and processed
  Promotion notifications submitted on the national portal are forwarded to the province's
  Department of Industry and Trade, which must receive and process them.

  @PROMO-1
  Scenario: A promotion notification reaches the Department of Industry and Trade and is processed
    Given the province's system has started and connected to the national platforms
    When a business submits a promotion notification on the national portal
    Then the province's Department of Industry and Trade receives it and processes it to the end
    And the portal holds the province's record of it: result returned, its whole history, handled by the department

  @PROMO-2 @negative
  Scenario: Promotions that are unsigned, forged, altered, replayed, repeated or for another province change nothing
    Given the province's system has started and connected to the national platforms
    When promotion notifications that are unsigned, signed with another secret, altered, replayed, delivered twice or addressed to another province reach the province's receiving endpoint
    Then the province refuses every wrong promotion, keeps exactly one dossier per genuine promotion, and nothing changes on its side or on the portal's
