// The world map for ECharts, from world-atlas's 1:110m countries (bundled, nothing fetched), and
// the events' country codes to the map's country names.

import { registerMap } from 'echarts/core';
import { feature } from 'topojson-client';
import world from 'world-atlas/countries-110m.json' with { type: 'json' };

// The events' country codes (UK, not GB, as in the original system) to world-atlas's ISO numeric ids.
const COUNTRY_IDS: Record<string, string> = {
  US: '840',
  UK: '826',
  GB: '826',
  DE: '276',
  IN: '356',
  EG: '818',
  FR: '250',
  ES: '724',
  SA: '682',
  CA: '124',
  BR: '076',
  CN: '156',
  JP: '392',
  AU: '036',
  IT: '380',
  NL: '528',
  MX: '484',
};

let worldRegistered = false;
const idToName = new Map<string, string>();

/** Registers the map 'world' with ECharts (once). */
export function registerWorld(): void {
  if (worldRegistered) return;
  const topo = world as unknown as Parameters<typeof feature>[0] & {
    objects: { countries: Parameters<typeof feature>[1] };
  };
  type Ring = [number, number][];
  const geo = feature(topo, topo.objects.countries) as unknown as {
    features: {
      id: string;
      properties: { name: string };
      geometry: { type: string; coordinates: Ring[] | Ring[][] };
    }[];
  };
  // A few parts (Chukotka, Fiji's eastern islands, Antarctica) cross the antimeridian: drawn on a
  // flat map they become lines across the world, so they are left out.
  const flat = (rings: Ring[]) => {
    const xs = (rings[0] ?? []).map((c) => c[0]);
    return Math.max(...xs) - Math.min(...xs) <= 180;
  };
  for (const f of geo.features) {
    idToName.set(String(f.id), f.properties.name);
    if (f.geometry.type === 'MultiPolygon')
      f.geometry.coordinates = (f.geometry.coordinates as Ring[][]).filter(flat);
  }
  registerMap('world', geo as never);
  worldRegistered = true;
}

/** The map's name of an events' country code (the code itself when the map has no such country). */
export const countryName = (code: string): string => idToName.get(COUNTRY_IDS[code] ?? '') ?? code;
