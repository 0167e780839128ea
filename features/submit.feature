@SUBMIT
Feature: Online submission in every commune, ward and special zone
  Only 8 of 34 provinces had tested online submission in every commune before the cutover.
  A dossier submitted on the national portal for each commune must reach the province and be
  acknowledged with the province's own dossier code.

  @SUBMIT-1
  Scenario: A dossier submitted online for every selected commune reaches the province
    Given every selected commune of the province has been through the citizen journey
    Then the portal forwarded each commune's dossier and the province acknowledged it with its own code
