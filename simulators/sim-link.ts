/**
 * Puts an InterruptibleLink between a simulated device and whatever carries its messages (a
 * given link, a link factory, or a broker URL dialled the way the SDK would), so the
 * `disconnect` fault works the same over MQTT and over the in-memory bus.
 */
import { connectMqttLink, type DeviceLink, type LastWill, type MqttLinkOptions } from '../devices/index.js';
import { InterruptibleLink } from './interruptible-link.js';
import type { LinkFactory } from './wcs-connect.js';

export interface LinkSourceOptions {
  link?: DeviceLink;
  linkFactory?: LinkFactory;
  url?: string;
  username?: string;
  password?: string;
}

/** Holds the wrapped link once the device has connected through the factory below. */
export interface LinkHolder {
  link: InterruptibleLink | undefined;
}

/** A factory that yields the source's link wrapped, recording it in `holder`; undefined when there is no source. */
export function interruptibleFactory(source: LinkSourceOptions, holder: LinkHolder): LinkFactory | undefined {
  const base = baseFactory(source);
  if (base === undefined) return undefined;
  return async (clientId: string, will: LastWill) => {
    const link = new InterruptibleLink(await base(clientId, will), will);
    holder.link = link;
    return link;
  };
}

function baseFactory(source: LinkSourceOptions): LinkFactory | undefined {
  const { link, linkFactory, url } = source;
  if (link !== undefined) return () => Promise.resolve(link);
  if (linkFactory !== undefined) return linkFactory;
  if (url === undefined) return undefined;
  return (clientId, will) => {
    const o: MqttLinkOptions = { url, clientId, will };
    if (source.username !== undefined) o.username = source.username;
    if (source.password !== undefined) o.password = source.password;
    return connectMqttLink(o);
  };
}
