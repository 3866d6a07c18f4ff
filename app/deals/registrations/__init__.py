"""Vendor project registrations (项目报备): a deal's registration with the software vendor, the gate it
puts on claims and handovers, the reminders before its protection ends, and the list per vendor."""
