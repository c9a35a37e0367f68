// The original generator's countries and cities.
export const GEOGRAPHY: Record<string, readonly string[]> = {
  US: ['New York', 'Los Angeles', 'Chicago', 'Houston'],
  UK: ['London', 'Manchester', 'Birmingham', 'Leeds'],
  DE: ['Berlin', 'Munich', 'Hamburg', 'Frankfurt'],
  IN: ['Mumbai', 'Delhi', 'Bangalore', 'Chennai'],
  EG: ['Cairo', 'Alexandria', 'Giza'],
  FR: ['Paris', 'Lyon', 'Marseille', 'Toulouse'],
  ES: ['Madrid', 'Barcelona', 'Valencia', 'Seville'],
  SA: ['Riyadh', 'Jeddah', 'Dammam'],
};
export const COUNTRIES = Object.keys(GEOGRAPHY);
