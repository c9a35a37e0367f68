// webhdfs ships no types; lib/clients/hdfs.ts declares the part it uses.
declare module 'webhdfs';
