"""Work orders: the order screen, its forms, the list and the work plan."""
