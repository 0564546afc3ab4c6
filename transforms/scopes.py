"""The one name every layer shares for the company-wide scope."""

# A report's scope is the company (this name), a group of units or one unit. Reserved:
# no unit or group may be called so (checked when the configuration is loaded).
COMPANY = "All"
