"""The ASB taskforce's own work: the interventions ladder and ASB Case Reviews (the Community Trigger)."""
