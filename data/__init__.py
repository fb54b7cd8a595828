"""The shipped call scripts and policies; installed as the package `seat.data`."""
