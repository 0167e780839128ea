@IFACE
Feature: The provincial portal's own citizen interface is closed
  Since the cutover, citizens submit on the National Public Service Portal only; the old
  provincial citizen pages must send them there.

  @IFACE-1
  Scenario: The old citizen pages redirect to the national portal
    Given the province's system has started and connected to the national platforms
    Then every old citizen page of the province redirects to the national portal
