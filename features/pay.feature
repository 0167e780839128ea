@PAY
Feature: Online payment into each commune's own account
  Fees are paid online into the account of the commune that handles the dossier; the province's
  system verifies every callback, applies it once however often it arrives, and reconciles.

  @PAY-1
  Scenario: The fee of every selected commune's dossier is paid into that commune's account
    Given every selected commune of the province has been through the citizen journey
    Then each commune's fee was asked for once, paid into its own account, and the province shows it paid

  @PAY-2 @negative
  Scenario: A forged, malformed or repeated payment callback changes nothing
    Given the province's system has started and connected to the national platforms
    When a forged callback, callbacks that are no callback at all, and then a repeated genuine callback reach the province's system
    Then the forged and malformed ones are refused and the repeated one is acknowledged without changing the dossier

  @PAY-3 @negative
  Scenario: A correctly signed callback that does not match a pending fee never pays it
    Given the province's system has started and connected to the national platforms
    When callbacks signed as the platform signs them but with another amount, another reference, another partner or province, or a failure, reach the province's system
    Then none of them marks a fee paid and none changes anything, on the province's side or on the portal

  @PAY-4 @negative
  Scenario: Every outcome of the payment platform's test banks is reconciled
    Given the province's system has started and connected to the national platforms
    When fees are paid through every test bank of the payment platform, and its clock moves past every deadline
    Then the province's system shows each payment as the platform's reconciliation does, and applies a success once

  @PAY-5
  Scenario: The payment platform refused no request of the province's system
    Given the province's system has started and connected to the national platforms
    Then no request of the province's system to the payment platform was refused during the run
