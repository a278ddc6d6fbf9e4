// The host's primary IPv4 address: that of the interface holding the default route. `--add-host
// NAME:host-gateway` resolves to it, since a step reaches the host's own addresses through pasta
// (never its loopback).
import { readFileSync } from "node:fs";
import { networkInterfaces } from "node:os";

/** The primary non-loopback IPv4 address, or undefined when the host has none. */
export function primaryHostIPv4(): string | undefined {
  const interfaces = networkInterfaces();
  const ipv4Of = (name: string) => interfaces[name]?.find((a) => a.family === "IPv4" && !a.internal)?.address;
  const routed = defaultRouteInterface();
  const fromRoute = routed === undefined ? undefined : ipv4Of(routed);
  if (fromRoute) return fromRoute;
  for (const name of Object.keys(interfaces)) {
    const address = ipv4Of(name);
    if (address) return address;
  }
  return undefined;
}

/** The interface of the first IPv4 default route in /proc/net/route. */
function defaultRouteInterface(): string | undefined {
  let text: string;
  try {
    text = readFileSync("/proc/net/route", "utf8");
  } catch {
    return undefined;
  }
  for (const line of text.split("\n").slice(1)) {
    const [iface, destination, , , , , , mask] = line.trim().split(/\s+/);
    if (iface && destination === "00000000" && mask === "00000000") return iface;
  }
  return undefined;
}
