"""Chapter 2-1 workflow service: UN special procedures communications, run as BPMN."""
