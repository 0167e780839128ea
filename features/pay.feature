@PAY
Feature: Online payment into each commune's own account
  Fees are paid online into the account of the commune that handles the dossier; the province's
  system verifies every callback, applies it once however often it arrives, and reconciles.

  @PAY-1
  Scenario: The fee of every selected commune's dossier is paid into that commune's account
    Given every selected commune of the province has been through the citizen journey
    Then each commune's fee was paid into its own account and the province shows it paid

  @PAY-2 @negative
  Scenario: A forged or repeated payment callback changes nothing
    Given the province's system has started and connected to the national platforms
    When a forged callback and then a repeated genuine callback reach the province's system
    Then the forged one is refused and the repeated one is acknowledged without changing the dossier
