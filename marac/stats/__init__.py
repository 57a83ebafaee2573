"""The steering group's statistics: attendance, the panel's performance figures and the SafeLives return."""
