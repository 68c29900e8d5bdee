"""The programme's FAQ: its entries, matching a trainee's question, and the staff inbox."""
