// Package bridge is the boundary between the controller and door hardware.
// A Link reports what the readers and doors sense as Signals and takes lock
// commands; Local drives pins in this process, and a remote bridge on a door
// Pi is another Link.
package bridge
