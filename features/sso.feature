@SSO
Feature: Single sign-on from the national portal
  Citizens and officers of every commune log in to the provincial system with their national
  account, and the system refuses identity tokens that are forged, expired, meant for another
  client or replayed into another login.

  @SSO-1
  Scenario: A citizen and an officer of every selected commune log in through national SSO
    Given every selected commune of the province has been through the citizen journey
    Then a citizen and an officer of each commune were logged in with their national identity

  @SSO-2 @negative
  Scenario: Broken identity tokens are refused
    Given the province's system has started and connected to the national platforms
    When the national portal issues an identity token that is broken in each known way
    Then the province's system refuses every one of them
