//! Everything tsync shows: diagnostics, plans and (for runs) what reporters draw from events.

pub mod diagnostics;
