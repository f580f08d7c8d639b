# The two commands of the README.
.PHONY: demo test

# The playbook against a local sandbox master node (or INVENTORY=path for real nodes).
demo:
	./demo/run $(INVENTORY)

# Every test, from a fresh machine.
test:
	./tests/run $(STAGES)
