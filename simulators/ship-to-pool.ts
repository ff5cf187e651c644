/** Names and streets simulated customers are drawn from (order feeds and generators share them). */
export const FIRST_NAMES = ['Anna', 'Ben', 'Clara', 'David', 'Elif', 'Finn', 'Greta', 'Hannes', 'Ida', 'Jonas', 'Lena', 'Mehmet'] as const;
export const LAST_NAMES = ['Schmidt', 'Müller', 'Weber', 'Becker', 'Yilmaz', 'Wagner', 'Hoffmann', 'Koch', 'Richter', 'Klein'] as const;
export const STREETS = ['Hauptstraße', 'Bahnhofstraße', 'Lindenweg', 'Gartenstraße', 'Schulstraße', 'Am Markt'] as const;
