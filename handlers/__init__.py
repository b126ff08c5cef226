"""Platform-neutral handlers: the intake dialog and the engineers' commands, in domain terms."""
