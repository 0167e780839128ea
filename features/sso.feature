@SSO
Feature: Single sign-on from the national portal
  Citizens and officers of every commune log in to the provincial system with their national
  account. As a relying party the system refuses identity tokens that are forged, unsigned, from
  another issuer, meant for another client, expired, issued in the future or carrying the wrong
  nonce, and user information about another person than the identity token names; and
  authorization responses it never asked for: a state it never issued, a state already used, no
  state, a code issued to another client, an error, no code, a state another province's login was
  given. A session opened at one province is not a session at another. It opens no session for
  any of them, and the portal refuses none of the requests it sends. Two logins in progress at
  once both succeed, whichever finishes first; a login while the portal's discovery document is
  unavailable fails without a crash, and the next one works. The portal's signing keys are kept,
  not fetched again for every login, and read again when the portal rotates its signing key.

  @SSO-1
  Scenario: A citizen and an officer of every selected commune log in through national SSO
    Given every selected commune of the province has been through the citizen journey
    Then a citizen and an officer of each commune were logged in with their national identity

  @SSO-2 @negative
  Scenario: Broken identity tokens are refused
    Given the province's system has started and connected to the national platforms
    When the national portal issues an identity token that is broken in each known way
    Then the province's system refuses every one of them

  @SSO-3 @negative
  Scenario: Forged, replayed and foreign authorization responses are refused
    Given the province's system has started and connected to the national platforms
    When authorization responses the province's system never asked for, or must not trust, reach its redirect URI
    Then the province's system refuses every one of them

  @SSO-4
  Scenario: The portal refused none of the province's single sign-on requests
    Given every selected commune of the province has been through the citizen journey
    Then the portal refused none of the requests the province's system sent to its single sign-on endpoints
