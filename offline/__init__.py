"""Run the program offline under Pulumi's mocks: the engine behind the tests and the plan."""
