"""Everything the bot sends on its own: planning what is due, the outbox that sends it once,
what each kind of delivery says, the tick and the clock that drives it."""
