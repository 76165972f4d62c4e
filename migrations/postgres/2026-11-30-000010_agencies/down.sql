DROP TABLE department_liaisons;
DROP TABLE departments;
