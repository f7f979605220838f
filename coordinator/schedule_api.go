package coordinator

// scheduleHandlers are the API verbs of schedules.
func (c *Coordinator) scheduleHandlers() map[string]handler {
	return map[string]handler{}
}
