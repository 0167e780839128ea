@SYNC
Feature: Dossier records are synchronised with the national portal
  Every change of a dossier's status reaches the portal, with legal transitions and times that
  never go backwards, so that the two sides reconcile 100%; a portal outage delays the sync and
  loses nothing.

  @SYNC-1
  Scenario: Every dossier's record and history on the portal equal the province's, field by field
    Given every selected commune of the province has been through the citizen journey
    Then the portal holds each dossier's whole history exactly as the province does
    And the driver's listing of the province and of the commune holds the dossier and nothing another province or commune holds

  @SYNC-2 @negative
  Scenario: A long portal outage loses nothing
    The outage spans many delivery attempts (CUTOVER_OUTAGE_ATTEMPTS, 10 by default), driven through
    the driver's tick with retry_now; a system that offers POST /cert/v1/restart is restarted half-way.
    Just before it, the portal stores a new dossier but the answer is lost: its retries are told it
    already exists, alone or in a batch with a dossier that arrived during the outage, which is new.
    After it, one whole round of attempts is refused 408, one 429 and one 401, and the province's
    adapter sessions really end with the 401: the system must log in again. Once all is on the portal,
    the sessions end again while nothing waits, and the next transition must still land.

    Given the province's system has started and connected to the national platforms
    When the portal's adapter API refuses many sync attempts while dossiers are processed, and then recovers
    Then the portal holds each of those dossiers' whole history exactly as the province does, each transition once

  @SYNC-3
  Scenario: Every dossier's record carries what it must, dated when things happened
    Given every selected commune of the province has been through the citizen journey
    Then each dossier on the portal names its commune's agency, carries the fields its status requires, and dates each step in Viet Nam time when it happened
    And it says it was submitted online and, once the fee was paid online, that it was paid online
    And no record the portal accepted carries a return date before the result was returned

  @SYNC-4
  Scenario: Every dossier is created once and every progress entry is sent once
    Given every selected commune of the province has been through the citizen journey
    Then the portal received each dossier's creation once and each of its progress entries once

  @SYNC-5
  Scenario: The portal refused nothing the province's system sent during the run
    Given every selected commune of the province has been through the citizen journey
    Then the portal refused none of the system's requests during the whole run, not even one a later attempt made good
