"""Use cases. Each public function that changes state is one database transaction."""
