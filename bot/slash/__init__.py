"""`/pmo`: one explicit table from each word to the function that answers it, the request it
gets, and the areas' answers."""
