@SYNC
Feature: Dossier records are synchronised with the national portal
  Every change of a dossier's status reaches the portal, with legal transitions and times that
  never go backwards, so that the two sides reconcile 100%; a portal outage delays the sync and
  loses nothing.

  @SYNC-1
  Scenario: Every dossier's history on the portal equals the province's
    Given every selected commune of the province has been through the citizen journey
    Then the portal holds each dossier's whole history exactly as the province does

  @SYNC-2 @negative
  Scenario: A portal outage loses nothing
    Given the province's system has started and connected to the national platforms
    When the portal's adapter API is down while a dossier is being processed, and then recovers
    Then the portal holds that dossier's whole history exactly as the province does
