"""`pmo-bot`: the command line (with bot/app.py the composition root), the demo, the digest
preview and the deliveries listing."""
