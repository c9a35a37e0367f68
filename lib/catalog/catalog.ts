// The catalog of the source system: the users and products the events refer to, generated
// deterministically from a seed and sized like the original's (2,000 users, 10,000 products). The
// event simulator (producers/) and the batch's catalog load (activities/) both read it here. Prices and stock drift slowly with time, so a
// warehouse snapshot of the catalog has real changes to record.

import { hashUnit, Random } from '../random.ts';
import { COUNTRIES, GEOGRAPHY } from './geography.ts';

export interface User {
  user_id: string;
  username: string;
  email: string;
  full_name: string;
  first_name: string;
  last_name: string;
  sex: 'M' | 'F';
  age: number;
  country: string;
  city: string;
  signup_date: string;
}

export interface Product {
  product_id: string;
  name: string;
  category: string;
  subcategory: string;
  brand: string;
  description: string;
  base_price: number;
  base_stock: number;
  rating: number;
  date_added: string;
  weight: number;
}

export interface ProductState {
  price: number;
  stock: number;
}

export interface Catalog {
  seed: string;
  users: User[];
  products: Product[];
}

const FIRST_M = [
  'James',
  'Omar',
  'Lukas',
  'Arjun',
  'Ahmed',
  'Louis',
  'Pablo',
  'Faisal',
  'Noah',
  'Karim',
  'Felix',
  'Rahul',
  'Hugo',
  'Mateo',
  'Yusuf',
  'Leo',
];
const FIRST_F = [
  'Emma',
  'Sara',
  'Lena',
  'Priya',
  'Nour',
  'Chloe',
  'Lucia',
  'Aisha',
  'Olivia',
  'Mona',
  'Hanna',
  'Ananya',
  'Alice',
  'Sofia',
  'Layla',
  'Mia',
];
const LAST = [
  'Smith',
  'Hassan',
  'Muller',
  'Sharma',
  'Mahmoud',
  'Martin',
  'Garcia',
  'Alharbi',
  'Brown',
  'Ibrahim',
  'Schmidt',
  'Patel',
  'Bernard',
  'Lopez',
  'Alqahtani',
  'Wilson',
];

interface CategorySpec {
  subcategories: string[];
  brands: string[];
  price: [number, number];
}

/** Category, its subcategories, its brands and its price range, one row each. */
// biome-ignore format: a table, one row a line
const CATEGORY_ROWS: [string, string[], string[], [number, number]][] = [
  ['Toys', ['Puzzles', 'Dolls', 'Building Sets', 'Outdoor'], ['Lego', 'Mattel', 'Hasbro', 'Ravensburger'], [5, 300]],
  ['Electronics', ['Laptops', 'Headphones', 'Cameras', 'Phones'], ['Sony', 'Samsung', 'Apple', 'Lenovo'], [20, 2954]],
  ['Books', ['Fiction', 'Science', 'History', 'Children'], ['Penguin', 'HarperCollins', 'Springer', 'Vintage'], [1, 120]],
  ['Beauty', ['Skincare', 'Makeup', 'Fragrance', 'Hair'], ['Loreal', 'Nivea', 'Dior', 'Garnier'], [3, 250]],
  ['Home & Kitchen', ['Sofas', 'Cookware', 'Lighting', 'Bedding'], ['Ikea', 'Tefal', 'Philips', 'Bosch'], [8, 2000]],
  ['Grocery', ['Snacks', 'Beverages', 'Pantry', 'Organic'], ['Nestle', 'Kelloggs', 'Heinz', 'Danone'], [1, 60]],
  ['Sports', ['Shoes', 'Fitness', 'Cycling', 'Team Sports'], ['Nike', 'Adidas', 'Puma', 'Decathlon'], [5, 900]],
  ['Fashion', ['Dresses', 'T-Shirts', 'Jackets', 'Accessories'], ['Zara', 'H&M', 'Uniqlo', 'Levis'], [5, 500]],
];
const CATEGORIES: Record<string, CategorySpec> = Object.fromEntries(
  CATEGORY_ROWS.map(([name, subcategories, brands, price]) => [name, { subcategories, brands, price }]),
);
export const CATEGORY_NAMES = Object.keys(CATEGORIES);

export const USER_COUNT = 2000;
export const PRODUCT_COUNT = 10_000;

const cache = new Map<string, Catalog>();

export function buildCatalog(
  seed: string | number = 'logpipe',
  users = USER_COUNT,
  products = PRODUCT_COUNT,
): Catalog {
  const key = `${seed}|${users}|${products}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const rnd = new Random(`catalog:${seed}`);
  const userList: User[] = [];
  for (let i = 1; i <= users; i++) {
    const sex = rnd.chance(0.5) ? 'M' : 'F';
    const first = rnd.pick(sex === 'M' ? FIRST_M : FIRST_F);
    const last = rnd.pick(LAST);
    const country = rnd.pick(COUNTRIES);
    const username = `${first.toLowerCase()}.${last.toLowerCase()}${i}`;
    userList.push({
      user_id: `user_${i}`,
      username,
      email: `${username}@example.com`,
      full_name: `${first} ${last}`,
      first_name: first,
      last_name: last,
      sex,
      age: rnd.int(18, 75),
      country,
      city: rnd.pick(GEOGRAPHY[country] ?? ['Unknown']),
      signup_date: new Date(Date.UTC(2020, 0, 1) + rnd.int(0, 5 * 365) * 86_400_000)
        .toISOString()
        .slice(0, 10),
    });
  }
  const productList: Product[] = [];
  for (let i = 1; i <= products; i++) {
    const category = rnd.pick(CATEGORY_NAMES);
    const spec = CATEGORIES[category] as CategorySpec;
    const subcategory = rnd.pick(spec.subcategories);
    const brand = rnd.pick(spec.brands);
    productList.push({
      product_id: `prod_${String(i).padStart(5, '0')}`,
      name: `${brand} ${subcategory} ${rnd.int(100, 999)}`,
      category,
      subcategory,
      brand,
      description: `${subcategory} by ${brand}`,
      base_price: Math.round(rnd.float(spec.price[0], spec.price[1]) * 100) / 100,
      base_stock: rnd.int(0, 500),
      rating: Math.round(rnd.float(1, 5) * 10) / 10,
      date_added: new Date(Date.UTC(2021, 0, 1) + rnd.int(0, 4 * 365) * 86_400_000)
        .toISOString()
        .slice(0, 10),
      weight: Math.round(rnd.float(0.05, 40) * 100) / 100,
    });
  }
  const catalog = { seed: String(seed), users: userList, products: productList };
  cache.set(key, catalog);
  return catalog;
}

/**
 * A product's price and stock at an instant. Each product's price moves by at most ±12% along a
 * slow wave (periods of 1 to 7 days) that changes step-wise once an hour; stock follows its own wave.
 */
export function productStateAt(product: Product, at: Date): ProductState {
  const hour = Math.floor(at.getTime() / 3_600_000);
  const phase = hashUnit(product.product_id, 'phase');
  const period = 24 + Math.floor(hashUnit(product.product_id, 'period') * 144);
  const wave = Math.sin(2 * Math.PI * (hour / period + phase));
  const price = Math.max(1, Math.round(product.base_price * (1 + 0.12 * wave) * 100) / 100);
  const stockWave = Math.cos(2 * Math.PI * (hour / (period * 0.7) + phase));
  const stock = Math.max(0, Math.round(product.base_stock * (0.55 + 0.45 * stockWave)));
  return { price, stock };
}
