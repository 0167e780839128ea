@DOCAXIS
Feature: Official documents on the National Document Interconnection Axis
  Every agency code of the province is published on the axis; a document to each commune is
  acknowledged with status packets; what the province sends is valid edXML.

  @DOCAXIS-1
  Scenario: Every agency code of the province is published on the axis
    Given the province's system has started and connected to the national platforms
    Then the axis directory lists the province's People's Committee, its departments and every commune

  @DOCAXIS-2
  Scenario: A ministry's document to every selected commune is acknowledged
    Given the province's system has started and connected to the national platforms
    When a ministry sends one document to every selected commune of the province
    Then each commune answers with the status packets 03 (received) and 06 (done)

  @DOCAXIS-3
  Scenario: What the province sends on the axis is valid edXML
    Given the province's system has started and connected to the national platforms
    When the province's People's Committee sends a document to a ministry
    Then the ministry receives a package that is valid edXML, names the sender and the ministry by their names, and carries the subject sent

  @DOCAXIS-4 @negative
  Scenario: Packages that are invalid or not addressed to the agency that receives them are refused
    Given the province's system has started and connected to the national platforms
    When the axis delivers the genuine package and packages that are not valid edXML or not addressed to the agency that receives them
    Then the province's system takes in only the genuine one, and nothing else changes

  @DOCAXIS-5 @negative
  Scenario: Status packets about a document it never sent or another agency's, from a non-recipient or with an unknown code change nothing
    Given the province's system has started and connected to the national platforms
    When a commune of the province sends a document to two ministries, and their genuine status packets and wrong ones arrive
    Then the province's system records only the genuine status packets, refuses the wrong ones, and nothing else changes

  @DOCAXIS-6
  Scenario: The axis refused none of the province's requests
    Given the province's system has started and connected to the national platforms
    Then the axis refused none of the requests the province's system made during the run
