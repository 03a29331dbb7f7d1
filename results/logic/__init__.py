"""Plain-Python result logic (no Django import anywhere in this package): layered targets and attainment,
ranks and percentiles, scoring schemes and grades. The Django side (results.services) feeds it plain dicts."""
