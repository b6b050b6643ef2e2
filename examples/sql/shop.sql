-- Sample tables for examples/sql (PostgreSQL): psql -d shop -f examples/sql/shop.sql
CREATE TABLE customer (
  id integer PRIMARY KEY,
  first_name text NOT NULL,
  last_name text NOT NULL,
  country char(2),
  credit_limit numeric(12, 2),
  changed_at timestamp NOT NULL DEFAULT now()
);
CREATE TABLE customer_order (order_no integer PRIMARY KEY, customer_id integer REFERENCES customer, changed_at timestamp NOT NULL DEFAULT now());
CREATE TABLE order_line (order_no integer REFERENCES customer_order, line_no integer, sku text, qty integer, price numeric(10, 2), PRIMARY KEY (order_no, line_no));
INSERT INTO customer (id, first_name, last_name, country, credit_limit) VALUES
  (1, 'Ada', 'Lovelace', 'gb', 1500.00), (2, 'Grace', 'Hopper', 'us', 2500.50), (3, 'Edsger', 'Dijkstra', 'nl', NULL);
INSERT INTO customer_order (order_no, customer_id) VALUES (100, 1), (101, 2);
INSERT INTO order_line VALUES (100, 1, 'BOOK-1', 2, 12.50), (100, 2, 'PEN-7', 1, 3.20), (101, 1, 'BOOK-9', 1, 40.00);
