/**
 * What every protocol suite shares around its own checks: the probe's broker login, the probe
 * itself, whether the device is believed running (so teardown stops it only then), the
 * lifecycle checks at the end (last will, reconnect, graceful OFFLINE) and setup/teardown.
 * The protocols differ only in how a connection message decodes and what the device publishes
 * when it comes back, which the suite passes in.
 */
import { expectThat, type ConformanceCheck, type ConformanceSuite } from './checks.js';
import { Probe, retainedOn, type ProbeOptions } from './probe.js';

/** What every device target names, whatever its protocol: where it is, and how to start, kill and stop it. */
export interface DeviceUnderTest {
  /** Broker the device is connected to, and the probe's credentials there. */
  url: string;
  username?: string;
  password?: string;
  /** Brings the device up (starts the simulator, powers the robot on); resolves once it should be connected. */
  start: () => Promise<void>;
  /** Takes it off the broker abruptly (process kill, cable pull). Without it the last-will checks are left out. */
  kill?: () => Promise<void>;
  /** Graceful shutdown. Without it the OFFLINE check is left out. */
  stop?: () => Promise<void>;
  /** Longest wait for one reply (5 s by default). */
  timeoutMs?: number;
}

export interface LifecycleChecksOptions {
  /** Check id prefix: `vda` or `wcs`. */
  prefix: string;
  /** Full topic of the device's connection messages. */
  connectionTopic: string;
  /** The connectionState a connection payload carries (throws on a payload that does not decode). */
  connectionState: (payload: Buffer) => string;
  /** What coming back must publish besides ONLINE: a rule wording, the topic and the wait's description. */
  reconnect: { rule: string; topic: string; what: string };
}

export class DeviceSuiteRunner {
  /** The probe's login; every fresh subscription (retainedOn) uses it too. */
  readonly broker: Omit<ProbeOptions, 'topics'>;
  /** Longest wait for one reply. */
  readonly timeout: number;
  private probe: Probe | undefined;
  private running = false;

  constructor(private readonly t: DeviceUnderTest) {
    this.timeout = t.timeoutMs ?? 5000;
    this.broker = { url: t.url, ...(t.username !== undefined ? { username: t.username } : {}), ...(t.password !== undefined ? { password: t.password } : {}) };
  }

  /** The connected probe; checks run only between setup and teardown. */
  readonly p = (): Probe => {
    if (this.probe === undefined) throw new Error('suite not set up');
    return this.probe;
  };

  /**
   * The last-will and reconnect checks (when the target can be killed) and the OFFLINE check
   * (when it can be stopped), to run after the protocol's own checks: they take the device off.
   */
  lifecycleChecks(o: LifecycleChecksOptions): ConformanceCheck[] {
    const checks: ConformanceCheck[] = [];
    const timeout = this.timeout;
    const connectionIs = (state: string) => (b: Buffer) => o.connectionState(b) === state;
    if (this.t.kill !== undefined) {
      const kill = this.t.kill;
      checks.push(
        {
          id: `${o.prefix}.lastWill`,
          rule: 'on an abrupt loss the broker publishes the retained last will CONNECTIONBROKEN',
          run: async () => {
            const since = Date.now();
            this.running = false;
            await kill();
            await this.p().waitFor(o.connectionTopic, 'CONNECTIONBROKEN', connectionIs('CONNECTIONBROKEN'), timeout, since);
            const retained = await retainedOn(this.broker, o.connectionTopic, timeout);
            expectThat(retained !== undefined && o.connectionState(retained) === 'CONNECTIONBROKEN', 'CONNECTIONBROKEN is not retained');
          },
        },
        {
          id: `${o.prefix}.reconnect.online`,
          rule: o.reconnect.rule,
          run: async () => {
            const since = Date.now();
            await this.t.start();
            this.running = true;
            await this.p().waitFor(o.connectionTopic, 'ONLINE after reconnect', connectionIs('ONLINE'), timeout, since);
            await this.p().waitFor(o.reconnect.topic, o.reconnect.what, () => true, timeout, since);
          },
        },
      );
    }
    if (this.t.stop !== undefined) {
      const stop = this.t.stop;
      checks.push({
        id: `${o.prefix}.close.offline`,
        rule: 'a graceful shutdown announces OFFLINE (retained)',
        run: async () => {
          const since = Date.now();
          this.running = false;
          await stop();
          await this.p().waitFor(o.connectionTopic, 'OFFLINE', connectionIs('OFFLINE'), timeout, since);
        },
      });
    }
    return checks;
  }

  /**
   * The suite: setup runs `validate` (a target the suite cannot use fails before anything
   * connects), connects the probe to `topics` and starts the device; teardown stops the device
   * if it is still running and closes the probe.
   */
  suite(name: string, topics: string[], checks: ConformanceCheck[], validate: () => void = () => undefined): ConformanceSuite {
    return {
      name,
      setup: async () => {
        validate();
        this.probe = await Probe.connect({ ...this.broker, topics });
        await this.t.start();
        this.running = true;
      },
      checks,
      teardown: async () => {
        if (this.running) await this.t.stop?.().catch(() => undefined);
        await this.probe?.close();
      },
    };
  }
}
