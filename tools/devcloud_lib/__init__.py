"""tools/devcloud: the project's embedded local OpenStack cloud."""
