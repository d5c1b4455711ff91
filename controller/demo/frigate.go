package demo

import (
	"context"
	"encoding/json"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// Frigate stands in for the NVR the demo factory has not got (frigate:
// simulated: true, hardware: sim only): on the site's broker it says
// "online" on <root>/available and sends <root>/stats every interval, as a
// running Frigate does, so the demo's board does not show frigate_offline
// for a camera system it never had. It sends no detections: those are the
// site's real subscriber's to weigh, and the tests send them.
func Frigate(ctx context.Context, opts *paho.ClientOptions, root string, every time.Duration) error {
	o := *opts
	o.SetWill(root+"/available", "offline", 1, true)
	// Like Frigate, it says "online" on every connection (the will may
	// have said otherwise meanwhile).
	o.SetOnConnectHandler(func(c paho.Client) { c.Publish(root+"/available", 1, true, "online") })
	client := paho.NewClient(&o)
	// The site's options retry the connection on their own, as Frigate's
	// client does.
	client.Connect()
	defer client.Disconnect(250)
	started := time.Now()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		stats, err := json.Marshal(map[string]any{"service": map[string]any{
			"uptime": int(time.Since(started).Seconds()), "version": "simulated"}})
		if err != nil {
			return err
		}
		// Stats sent while not connected are lost (the site's options keep
		// no resend store), as a real Frigate's are: the next ones follow.
		client.Publish(root+"/stats", 0, false, stats)
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
