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
  Scenario: A long portal outage loses nothing
    The outage spans many delivery attempts (CUTOVER_OUTAGE_ATTEMPTS, 10 by default), driven through
    the driver's tick with retry_now; a system that offers POST /cert/v1/restart is restarted half-way.

    Given the province's system has started and connected to the national platforms
    When the portal's adapter API refuses many sync attempts while dossiers are processed, and then recovers
    Then the portal holds each of those dossiers' whole history exactly as the province does, each transition once
