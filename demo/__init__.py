"""Demo data: generated values laid out in every workflow state through the real actions (seed_demo)."""
