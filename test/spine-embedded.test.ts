import { afterAll, beforeAll, describe, it } from 'vitest';
import { startHarness, type Harness } from './support/harness.js';
import { pickOneOrderAcrossBothZones } from './spine.js';

describe('end-to-end over the embedded aedes broker', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ speed: 6 });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('picks an order with an AMR-zone line and an AS/RS-zone line, durably and exactly', async () => {
    await pickOneOrderAcrossBothZones(h);
  });
});
