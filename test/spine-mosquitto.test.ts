import { afterAll, beforeAll, describe, it } from 'vitest';
import { startHarness, type Harness } from './support/harness.js';
import { MOSQUITTO_SKIP_REASON, mosquittoBinary, startMosquitto, type RunningMosquitto } from './support/mosquitto.js';
import { pickOneOrderAcrossBothZones } from './spine.js';

const hasMosquitto = mosquittoBinary() !== undefined;
if (!hasMosquitto) console.warn(`SKIPPED: ${MOSQUITTO_SKIP_REASON}`);

describe.runIf(hasMosquitto)('end-to-end over an external Mosquitto broker', () => {
  let broker: RunningMosquitto;
  let h: Harness;
  beforeAll(async () => {
    broker = await startMosquitto();
    h = await startHarness({ mqttUrl: broker.url, speed: 6 });
  });
  afterAll(async () => {
    await h?.stop();
    await broker?.stop();
  });

  it('picks an order with an AMR-zone line and an AS/RS-zone line through the external-broker path', async () => {
    await pickOneOrderAcrossBothZones(h);
  });
});
