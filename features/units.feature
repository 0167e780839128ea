@UNITS
Feature: Every commune-level unit is declared in the national catalogue
  As the Government Office, I want every province to declare its new communes, wards and special
  zones in the national catalogue with their official codes and names, so that citizens find the
  right People's Committee on the National Public Service Portal.

  @UNITS-1
  Scenario: The province has declared every commune, ward and special zone
    Given the province's system has started and connected to the national platforms
    Then every unit of the province is declared in the national catalogue with its official code and name
    And the portal refused none of the province's declarations
