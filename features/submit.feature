@SUBMIT
Feature: Online submission in every commune, ward and special zone
  Only 8 of 34 provinces had tested online submission in every commune before the cutover.
  A dossier submitted on the national portal for each commune must reach the province and be
  acknowledged with the province's own dossier code.

  @SUBMIT-1
  Scenario: A dossier submitted online for every selected commune reaches the province
    Given every selected commune of the province has been through the citizen journey
    Then the portal forwarded each commune's dossier and the province acknowledged it with its own code

  @SUBMIT-2 @negative
  Scenario: Forwards that are unsigned, forged, altered, replayed, repeated or for another province change nothing
    Given the province's system has started and connected to the national platforms
    When forwards that are unsigned, signed with another secret, altered, replayed, delivered twice or addressed to another province reach the province's receiving endpoint
    Then the province refuses every wrong forward, keeps exactly one dossier per genuine forward, and nothing changes on its side or on the portal's
