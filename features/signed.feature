@SIGNED
Feature: Every result is digitally signed and belongs to its own dossier
  No dossier is closed without its own result attached, signed by the official who issued it
  with a certificate from the government's specialised CA, issued to an officer of the province
  that handled the dossier.

  @SIGNED-1
  Scenario: The result of every selected commune's dossier is signed and carries its dossier code
    Given every selected commune of the province has been through the citizen journey
    Then each result listed on the portal is signed by a certificate of the government CA, is intact, and names its own dossier
