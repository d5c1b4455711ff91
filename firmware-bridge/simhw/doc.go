// Package simhw is the simulated door hardware: periph gpiotest pins that
// behave like the real lines (edges only for the edges asked for, outputs that
// remember every level they were driven to), and the devices that drive them:
// a Wiegand reader sending real pulse trains, door contacts and REX buttons.
package simhw
