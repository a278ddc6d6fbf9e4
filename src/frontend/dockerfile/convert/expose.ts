// EXPOSE port specs as BuildKit reads them: "80", "80/udp", "8000-8002/tcp", and the ignored
// "ip:hostPort:containerPort" forms; each port of a range becomes "N/proto".
import { isIP } from "../../../util/lazy-modules.ts";

const PROTOCOLS = ["tcp", "udp", "sctp"];

export function parsePorts(specs: readonly string[]): string[] {
  return specs.flatMap(parsePort);
}

function parsePort(raw: string): string[] {
  const { ip, hostPort, containerPort: withProto } = splitParts(raw);
  const slash = withProto.indexOf("/");
  const port = slash < 0 ? withProto : withProto.slice(0, slash);
  const proto = slash < 0 ? "" : withProto.slice(slash + 1);
  if (port === "") throw new Error(`invalid port: "${raw}": no port specified`);
  if (proto !== "" && !PROTOCOLS.includes(proto.toLowerCase())) throw new Error(`invalid port: "${raw}": invalid proto: ${proto}`);
  let host = ip;
  if (host.startsWith("[")) host = host.replace(/^\[|\]$/g, "");
  if (host !== "" && isIP(host) === 0) throw new Error(`invalid IP address: ${host}`);
  const range = portRange(port);
  if (!range) throw new Error(`invalid containerPort: ${port}`);
  if (hostPort !== "") {
    const hostRange = portRange(hostPort);
    if (!hostRange) throw new Error(`invalid hostPort: ${hostPort}`);
    if (range[1] - range[0] !== hostRange[1] - hostRange[0] && range[1] !== range[0]) {
      throw new Error(`invalid ranges specified for container and host Ports: ${port} and ${hostPort}`);
    }
  }
  const out: string[] = [];
  for (let p = range[0]; p <= range[1]; p++) out.push(`${p}/${(proto || "tcp").toLowerCase()}`);
  return out;
}

function splitParts(raw: string): { ip: string; hostPort: string; containerPort: string } {
  const parts = raw.split(":");
  const n = parts.length;
  if (n === 1) return { ip: "", hostPort: "", containerPort: parts[0] as string };
  if (n === 2) return { ip: "", hostPort: parts[0] as string, containerPort: parts[1] as string };
  return { ip: parts.slice(0, n - 2).join(":"), hostPort: parts[n - 2] as string, containerPort: parts[n - 1] as string };
}

function portRange(text: string): [number, number] | undefined {
  if (text === "") return undefined;
  const dash = text.indexOf("-");
  const start = portNumber(dash < 0 ? text : text.slice(0, dash));
  if (start === undefined) return undefined;
  const endText = dash < 0 ? undefined : text.slice(dash + 1);
  if (endText === undefined || endText === text.slice(0, dash)) return [start, start];
  const end = portNumber(endText);
  if (end === undefined || end < start) return undefined;
  return [start, end];
}

function portNumber(text: string): number | undefined {
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 0 && n <= 65535 ? n : undefined;
}
