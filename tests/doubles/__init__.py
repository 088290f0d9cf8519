"""Local doubles of outside services, built from their documented wire formats."""
