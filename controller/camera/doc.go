// Package camera ties doors to cameras: it takes a still from each camera
// that watches a door when something there matters (a restricted entry, an
// entry request, a forced or held door), talks to a Frigate NVR — bookmarks
// out, detections in — and weighs what the cameras see against who badged:
// tailgating, intrusion and the phone ban.
package camera
