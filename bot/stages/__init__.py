"""The delivery process (issue 17): phases, stage gates and change requests."""
