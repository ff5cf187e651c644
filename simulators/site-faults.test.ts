import { describe, expect, it } from 'vitest';
import { SimulatedAmr } from './amr.js';
import { SimulatedArm } from './arm.js';
import { SimulatedAsrs } from './asrs.js';
import { ManualClock } from './clock.js';
import { SimulatedConveyor } from './conveyor.js';
import type { Fault } from './faults.js';
import type { SimulatedDevices } from './site-sim.js';
import { startSiteFaults } from './site-faults.js';
import { generateDemoLayout } from './sites/generate-demo.js';
import { LoopbackLink } from './test-link.js';

const layout = generateDemoLayout(1);
const HOUR = 3_600_000;

/** Starts the demo's devices on loopback links and records every fault they are dealt. */
async function faultsOf(seed: number, hours: number): Promise<string[]> {
  const clock = new ManualClock(0);
  const sim = (): { site: string; link: LoopbackLink; clock: ManualClock; telemetryMs: number } => ({ site: layout.site.id, link: new LoopbackLink(), clock, telemetryMs: 600_000 });
  const devices: SimulatedDevices = {
    amrs: await Promise.all(layout.devices.amrs.slice(0, 2).map((spec) => SimulatedAmr.start({ layout, spec, interfaceName: 'uagv', link: new LoopbackLink(), clock, stateIntervalMs: 600_000 }))),
    asrs: await Promise.all(layout.devices.asrs.map((spec) => SimulatedAsrs.start(spec, layout, sim()))),
    conveyors: await Promise.all(layout.devices.conveyors.map((spec) => SimulatedConveyor.start(spec, sim()))),
    arms: await Promise.all(layout.devices.arms.map((spec) => SimulatedArm.start(spec, sim()))),
  };
  const log: string[] = [];
  const all = [...devices.amrs.map((d) => [d.serialNumber, d] as const), ...[...devices.asrs, ...devices.conveyors, ...devices.arms].map((d) => [d.device.deviceId, d] as const)];
  for (const [id, d] of all) {
    const inject = d.injectFault.bind(d);
    d.injectFault = (f: Fault) => {
      log.push(`${clock.now()} ${id} ${f.kind} ${f.durationMs}`);
      inject(f);
    };
  }
  const faults = startSiteFaults(devices, clock, seed, {
    amr: { breakdown: { mtbfHours: 2, meanMinutes: 5 }, disconnect: { mtbfHours: 3, meanMinutes: 1 } },
    conveyor: { jam: { mtbfHours: 1, meanMinutes: 2 } },
    arm: { slowdown: { mtbfHours: 2, meanMinutes: 10, factor: 0.5 } },
  });
  clock.advance(hours * HOUR);
  faults.stop();
  await Promise.all(all.map(([, d]) => d.stop()));
  return log;
}

describe('site fault injection', () => {
  it('is reproducible from the seed, differs with another, and reaches every configured class', async () => {
    const a = await faultsOf(1, 6);
    expect(await faultsOf(1, 6)).toEqual(a);
    expect(await faultsOf(2, 6)).not.toEqual(a);
    for (const kind of ['breakdown', 'disconnect', 'jam', 'slowdown']) expect(a.some((l) => l.includes(` ${kind} `))).toBe(true);
    // AS/RS got no rates: no faults.
    expect(a.some((l) => l.includes(' asrs-'))).toBe(false);
  });

  it('an empty config starts nothing', async () => {
    const clock = new ManualClock(0);
    const faults = startSiteFaults({ amrs: [], asrs: [], conveyors: [], arms: [] }, clock, 1, {});
    expect(clock.size).toBe(0);
    faults.stop();
  });
});
