"""The certification engine: checks of DESIGN §5, written once and called by the Gherkin steps."""
